"""Uplift modelling: who does a promotion persuade, and what would targeting them be worth.

Pure Python (numpy, scipy, scikit-learn), no Django: ``data`` reads a logged experiment,
``features`` builds visitor features from behavior events, ``models`` holds the uplift models,
``metrics`` the Qini coefficient, AUUC and uplift@k, ``evaluate`` the train/validate/test
procedure of the ``promotions_uplift`` command, and ``policy`` the offline (inverse propensity
weighted) evaluation of a targeting policy on randomized logs.
"""
