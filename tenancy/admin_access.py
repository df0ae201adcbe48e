"""
Admin access follows the roles: joining a role whose work is in the admin (tenancy.roles.ADMIN_ROLES: KPI owners,
Auditors, KPI approvers) ticks a user's staff status, and leaving the last of them unticks it, however the groups
change (the user's page, a group's members, code). What the admin then shows them is their groups' permissions and
their companies. Superusers keep their staff status; group changes that touch no admin role leave it as it is.
"""
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed

from .roles import ADMIN_ROLES


def sync_staff_status(user_ids):
    """Staff status of the users `user_ids` (superusers aside) set to whether they hold an admin role."""
    users = get_user_model().objects.filter(pk__in=user_ids, is_superuser=False)
    in_admin_role = get_user_model().objects.filter(pk__in=user_ids, groups__name__in=ADMIN_ROLES).values("pk")
    users.filter(pk__in=in_admin_role).exclude(is_staff=True).update(is_staff=True)
    users.exclude(pk__in=in_admin_role).exclude(is_staff=False).update(is_staff=False)


def _users_touched(instance, action, reverse, pk_set):
    """The ids of the users whose admin roles the m2m change `action` may have changed (None: none)."""
    if reverse:  # a group's members changed
        if instance.name not in ADMIN_ROLES:
            return None
        return getattr(instance, "_admin_role_members", None) if action == "post_clear" else pk_set
    if action == "post_clear":
        return {instance.pk} if getattr(instance, "_had_admin_role", False) else None
    return {instance.pk} if Group.objects.filter(pk__in=pk_set, name__in=ADMIN_ROLES).exists() else None


def staff_status_follows_admin_roles(sender, instance, action, reverse, pk_set, **kwargs):
    if action == "pre_clear":
        # After the clear there is nothing left to tell whose admin roles went.
        if reverse:
            instance._admin_role_members = set(instance.user_set.values_list("pk", flat=True))
        else:
            instance._had_admin_role = instance.groups.filter(name__in=ADMIN_ROLES).exists()
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    user_ids = _users_touched(instance, action, reverse, pk_set)
    if user_ids:
        sync_staff_status(user_ids)
        if not reverse:
            instance.is_staff = get_user_model().objects.filter(pk=instance.pk).values_list("is_staff", flat=True).get()


def connect():
    m2m_changed.connect(
        staff_status_follows_admin_roles, sender=get_user_model().groups.through, dispatch_uid="tenancy.admin_access"
    )
