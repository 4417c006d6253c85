"""Export files follow their task: deleting a task (API, dashboard, admin, shell) removes its export files
once the deletion is committed, so a rolled-back delete keeps them. A signal, because batches must not
import exports (exports depends on batches)."""

from functools import partial

from django.db import transaction
from django.db.models.signals import pre_delete
from django.dispatch import receiver

from batches.models import BatchTask

from . import services


@receiver(pre_delete, sender=BatchTask, dispatch_uid="exports.files_of_deleted_task")
def remove_export_files_with_task(sender, instance: BatchTask, **kwargs):
    transaction.on_commit(partial(services.export_files_remove, services.export_files_of(instance)))
