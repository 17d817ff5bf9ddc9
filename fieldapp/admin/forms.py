from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    EmailField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import Length, Optional

from ..auth.forms import new_password_field
from ..forms import select_choices
from ..services.audit_log import ACTIONS, OUTCOMES
from ..services.user_admin import ROLE_LABELS

ROLE_CHOICES = list(ROLE_LABELS.items())


class UserForm(FlaskForm):
    email = EmailField("Email", validators=[Length(max=254)])
    name = StringField("Name", validators=[Length(max=200)])
    role = SelectField("Role", choices=select_choices(ROLE_CHOICES), validate_choice=False)
    teams = SelectMultipleField("Teams", validate_choice=False)
    password = new_password_field("Initial password")
    submit = SubmitField("Create user")


class UserEditForm(FlaskForm):
    name = StringField("Name", validators=[Length(max=200)])
    role = SelectField("Role", choices=select_choices(ROLE_CHOICES), validate_choice=False)
    teams = SelectMultipleField("Teams", validate_choice=False)
    submit = SubmitField("Save changes")


class TemporaryPasswordForm(FlaskForm):
    password = new_password_field("Temporary password")
    submit = SubmitField("Set temporary password")


class AuditFilterForm(FlaskForm):
    """The audit log's filters, read from the query string (a GET form: no CSRF token, so a
    filtered view can be bookmarked and shared)."""

    class Meta:
        csrf = False

    user = SelectField("User", validate_choice=False)
    child = StringField("Child (name or external id)", validators=[Length(max=200)])
    action = SelectField(
        "Action",
        choices=select_choices([("", "Any action"), *sorted(ACTIONS.items(), key=lambda a: a[1])]),
        validate_choice=False,
    )
    outcome = SelectField(
        "Outcome",
        choices=select_choices([("", "Any outcome"), *OUTCOMES.items()]),
        validate_choice=False,
    )
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])
    submit = SubmitField("Show events")


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
