from django.urls import path

from kehu.support import knowledge_views, public_views

app_name = "support_public"

urlpatterns = [
    path("<int:unit_id>/", public_views.help_form, name="form"),
    path("<int:unit_id>/thanks/", public_views.help_thanks, name="thanks"),
    path("kb/", knowledge_views.public_articles, name="kb"),
    path("kb/<int:article_id>/", knowledge_views.public_article, name="kb_article"),
]
