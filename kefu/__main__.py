"""The `kefu` operator command: `kefu demo`, `kefu import-customers FILE`, `kefu worker`, ...

It is Django's management command runner with dashes allowed in command names, so operators
type `kefu import-customers` rather than `python manage.py import_customers`.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    argv[0] = "kefu"
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
