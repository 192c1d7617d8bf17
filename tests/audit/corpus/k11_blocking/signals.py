from django.dispatch import Signal

order_paid = Signal()

# Sent for plugins; nothing in the project listens.
order_viewed = Signal()
