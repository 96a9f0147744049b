"""First-start defaults: the runner prints them and the roster's bootstrap applies them."""

DEFAULT_ADMIN_EMPLOYEE_NO = "admin"
DEFAULT_ADMIN_PASSWORD = "callpulse-admin"
