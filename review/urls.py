"""URLs of review's own pages. The review console itself lives in the admin (review/admin.py), so there are none
yet; the namespace is reserved for the pages to come (the reviewer's work queue)."""

app_name = "review"

urlpatterns: list = []
