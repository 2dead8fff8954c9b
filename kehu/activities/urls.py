from django.urls import path

from kehu.activities import views

app_name = "activities"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("customers/<int:customer_id>/timeline/", views.timeline_entry_create, name="timeline_create"),
    path("timeline/<int:entry_id>/delete/", views.timeline_entry_delete, name="timeline_delete"),
    path("attachments/<int:attachment_id>/", views.attachment_download, name="attachment"),
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/new/", views.task_create, name="task_create"),
    path("tasks/<int:task_id>/complete/", views.task_complete, name="task_complete"),
    path("notifications/", views.notifications, name="notifications"),
    path("recycle-bin/", views.recycle_bin, name="recycle_bin"),
    path(
        "recycle-bin/timeline/<int:entry_id>/restore/", views.timeline_entry_restore, name="timeline_restore"
    ),
    path("recycle-bin/tasks/<int:task_id>/restore/", views.task_restore, name="task_restore"),
]
