from django.urls import path

from security.choices import Scanner

from .views import ScanUploadView

urlpatterns = [
    path(f"scans/{scanner.value}/", ScanUploadView.as_view(scanner=scanner), name=f"scan-upload-{scanner.value}")
    for scanner in Scanner
]
