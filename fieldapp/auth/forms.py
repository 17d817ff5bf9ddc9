from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired

from ..services import passwords


def new_password_field(label: str) -> PasswordField:
    """A field for setting a password: its hint and length limits come from the password policy
    (services/passwords.py), which is also what checks the value. The browser is told the
    limits (password managers generate within them); the forms are `novalidate`, so the server
    gives the reasons."""
    return PasswordField(
        label,
        description=passwords.HINT,
        render_kw={
            "autocomplete": "new-password",
            "minlength": passwords.MIN_LENGTH,
            "maxlength": passwords.MAX_LENGTH,
        },
    )


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(message="Enter your email.")])
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password.")])
    submit = SubmitField("Sign in")


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = new_password_field("New password")
    submit = SubmitField("Change password")
