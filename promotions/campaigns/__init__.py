"""Personalized e-mail campaigns: a customer segment's promotions and products as merge rows with
signed links, the clicks they bring, the purchases that follow and the lift over a holdout."""
