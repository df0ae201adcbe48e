"""The cockpit's Reports page, under /cockpit/reports/."""
from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.report_list, name="list"),
    path("<int:report_id>/report.pdf", views.report_pdf, name="pdf"),
    path("<int:report_id>/report.html", views.report_html, name="html"),
]
