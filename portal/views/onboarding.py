"""(being built)"""

from flask import Blueprint

bp = Blueprint("onboarding", __name__)
