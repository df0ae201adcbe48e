from django.urls import path

from security.choices import Scanner

from .views import PatchStatesUploadView, ScanUploadView

urlpatterns = [
    *(
        path(f"scans/{scanner.value}/", ScanUploadView.as_view(scanner=scanner), name=f"scan-upload-{scanner.value}")
        for scanner in Scanner
    ),
    path("patch-states/", PatchStatesUploadView.as_view(), name="patch-states-upload"),
]
