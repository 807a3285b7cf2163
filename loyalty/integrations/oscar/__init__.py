"""The django-oscar adapter: add ``loyalty.integrations.oscar`` to INSTALLED_APPS next to ``loyalty``.

Oscar's signals enrol customers and record, confirm, cancel and refund their orders' points; the
fulfilment backend in ``vouchers`` turns redeemed discount rewards into Oscar vouchers. Only this
package imports Oscar, so the plugin works without it.
"""
