def product_saved(sender, instance, **kwargs):
    instance.category.product_set.count()  # control
