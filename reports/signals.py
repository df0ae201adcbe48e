"""
What the reports app tells the layers above it. Sent once a report is stored (after its transaction commits), with
`sender=Report` and `report=` the stored Report; receivers deliver it (e-mail, chat, webhooks) and never change it.
"""
from django.dispatch import Signal

report_ready = Signal()
