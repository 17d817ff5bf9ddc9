from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import Length

from ..forms import select_choices

ROLE_CHOICES = [
    ("practitioner", "Practitioner"),
    ("team_leader", "Team leader"),
    ("coordinator", "Permanency coordinator"),
    ("admin", "Admin"),
]


class UserForm(FlaskForm):
    email = EmailField("Email", validators=[Length(max=254)])
    name = StringField("Name", validators=[Length(max=200)])
    role = SelectField("Role", choices=select_choices(ROLE_CHOICES), validate_choice=False)
    teams = SelectMultipleField("Teams", validate_choice=False)
    password = PasswordField("Initial password")
    submit = SubmitField("Create user")


class TeamForm(FlaskForm):
    name = StringField("Team name", validators=[Length(max=200)])
    agency = StringField("Agency", validators=[Length(max=200)])
    agency_kind = SelectField(
        "Agency kind",
        choices=select_choices([("government", "Government"), ("ngo", "Non-government")]),
        validate_choice=False,
    )
    submit = SubmitField("Create team")


class ImportForm(FlaskForm):
    file = FileField("CSV file")
    submit = SubmitField("Import")
