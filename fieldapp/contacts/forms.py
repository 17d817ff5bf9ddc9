"""The addendum form on a team leader's contact page. Its labels and limits are the record
definition's (services/record_fields.py), as are the offline app's and push validation's."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import Length

from ..services import record_fields as fields
from ..services.record_fields import ADDENDUM


def _text_field(spec: fields.FieldSpec):
    """The WTForms field of one text field of the definition: its label and limit. Required
    fields are checked by services/contacts.py, naming the field."""
    kind = TextAreaField if spec.kind == fields.LONG_TEXT else StringField
    return kind(spec.label, validators=[Length(max=spec.max_length)])


class AddendumForm(FlaskForm):
    reason = _text_field(ADDENDUM["reason"])
    text = _text_field(ADDENDUM["text"])
    submit = SubmitField("Add addendum")
