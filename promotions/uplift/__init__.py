"""Uplift modelling: who does a promotion persuade, and what would targeting them be worth.

The modelling is pure Python (numpy, scipy, scikit-learn): ``data`` reads a logged experiment,
``features`` builds visitor features from behavior events, ``models`` holds the uplift models,
``metrics`` the Qini coefficient, AUUC and uplift@k, ``evaluate`` the train/validate/test
procedure of the ``promotions_uplift`` command, and ``policy`` the offline (inverse propensity
weighted) evaluation of a targeting policy on randomized logs; ``linear`` the logistic T-learner
whose weights the promotion ranking reads as plain numbers. The Django glue lives in ``records``
(stored reports) and ``app_data`` (training on the app's own randomized promotion holdouts).
"""
