from django.apps import AppConfig


class ProductConfig(AppConfig):
    name = "product"
    verbose_name = "Product usage"
