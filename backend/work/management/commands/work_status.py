"""`python manage.py work_status`: the durable work, per kind, for operators."""

from django.core.management.base import BaseCommand

from services.work import work_status


class Command(BaseCommand):
    help = "Print pending, overdue, failed and done work per kind, and the oldest pending item."

    def handle(self, *args, **options):
        status = work_status()
        self.stdout.write(f"Work at {status['at']:%Y-%m-%d %H:%M:%S} UTC")
        columns = ("pending", 9), ("overdue", 9), ("failed", 8), ("done", 8), ("cancelled", 11)
        self.stdout.write(f"{'kind':<24}" + "".join(f"{name:>{width}}" for name, width in columns))
        for kind, counts in status["kinds"].items():
            cells = "".join(f"{counts[name]:>{width}}" for name, width in columns)
            self.stdout.write(f"{kind:<24}{cells}")
        if not status["kinds"]:
            self.stdout.write("(no work yet)")
        oldest = status["oldest_pending"]
        if oldest:
            due = f"{oldest['due_at']:%Y-%m-%d %H:%M} UTC"
            line = f"Oldest pending: {oldest['kind']} {oldest['key']}, due {due}"
            line += f", {oldest['attempts']} attempts"
            if oldest["last_error"]:
                line += f", last error: {oldest['last_error']}"
            self.stdout.write(line)
