"""Permanency planning pages (R3, R4, R10, R11, R12): the coordinator's dashboard, the child
page's Permanency section and its forms, and the quarterly minimum data set. Each module owns
one blueprint."""
