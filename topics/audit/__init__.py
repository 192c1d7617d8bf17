"""`manage.py async_audit`: what stands between a Django project and async views."""
