"""Django admin screens of the app, one module per concern (imported here so admin autodiscovery finds them)."""

from . import events  # noqa: F401
from .campaigns import CampaignAdmin  # noqa: F401
from .experiments import ExperimentAdmin  # noqa: F401
from .keys import ApiKeyAdmin  # noqa: F401
from .model_promotions import ModelPromotionAdmin  # noqa: F401
from .offers import PromotionAdmin  # noqa: F401
from .training import ModelVersionAdmin  # noqa: F401
from .uplift import UpliftReportAdmin  # noqa: F401
from .visitors import VisitorAdmin  # noqa: F401
