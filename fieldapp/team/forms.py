from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import Length


class ReallocateForm(FlaskForm):
    practitioner_id = SelectField("New practitioner", coerce=int, validate_choice=False)
    reason = StringField("Reason", validators=[Length(max=500)])
    submit = SubmitField("Reallocate")
