from django.urls import path

from kehu.loyalty import views

app_name = "loyalty"

urlpatterns = [
    path("", views.member_list, name="members"),
    path("members/", views.member_list, name="member_list"),
    path("members/<int:customer_id>/", views.member_detail, name="member"),
    path("members/<int:customer_id>/adjust/", views.member_adjust, name="member_adjust"),
    path("members/<int:customer_id>/tier/", views.member_tier, name="member_tier"),
    path("members/<int:customer_id>/evaluate/", views.member_evaluate, name="member_evaluate"),
    path("members/<int:customer_id>/redeem/coupon/", views.member_redeem_coupon, name="member_redeem_coupon"),
    path("members/<int:customer_id>/redeem/gift/", views.member_redeem_gift, name="member_redeem_gift"),
    path("members/<int:customer_id>/issue/", views.member_issue, name="member_issue"),
    path("members/<int:customer_id>/invitation/", views.member_referral_code, name="member_referral_code"),
    path("referrals/new/", views.referral_new, name="referral_new"),
    path("tiers/", views.tier_list, name="tiers"),
    path("tiers/new/", views.tier_edit, name="tier_new"),
    path("tiers/<int:tier_id>/edit/", views.tier_edit, name="tier_edit"),
    path("tiers/<int:tier_id>/delete/", views.tier_delete, name="tier_delete"),
    path("settings/", views.settings_edit, name="settings"),
    path("coupons/", views.coupon_list, name="coupons"),
    path("coupons/new/", views.coupon_edit, name="coupon_new"),
    path("coupons/redeem/", views.coupon_redeem, name="redeem"),
    path("coupons/<int:definition_id>/", views.coupon_detail, name="coupon"),
    path("coupons/<int:definition_id>/edit/", views.coupon_edit, name="coupon_edit"),
    path("coupons/<int:definition_id>/generate/", views.coupon_generate, name="coupon_generate"),
    path("coupons/<int:definition_id>/issue/", views.coupon_issue, name="coupon_issue"),
    path("coupons/<int:definition_id>/export/", views.coupon_export, name="coupon_export"),
    path("coupons/<int:definition_id>/delete/", views.coupon_delete, name="coupon_delete"),
    path("coupons/<int:definition_id>/restore/", views.coupon_restore, name="coupon_restore"),
]
