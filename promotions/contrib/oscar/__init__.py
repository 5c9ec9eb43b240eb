"""``promotions.contrib.oscar``: the app inside a django-oscar shop, by settings only.

Add ``"promotions.contrib.oscar"`` to INSTALLED_APPS before ``"promotions"`` and follow
docs/oscar.md: products are read through Oscar's catalogue and pricing strategy, Oscar's
basket, checkout and search announce the visitor's events, and the app's promotions are
given as Oscar offers, so the discount shown is the discount charged.
"""
