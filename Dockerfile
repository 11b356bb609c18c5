# The production image: one image for web (gunicorn), the Celery worker and Celery beat.
# docker-compose.yml runs it; see README.md and .env.example.
FROM python:3.11-slim

# The settings derive their base directory (static files, the optional .env) from where the
# source is imported from. PYTHONPATH=/app puts /app ahead of site-packages, so that is /app.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=backend.settings.production \
    PYTHONPATH=/app

WORKDIR /app

# Copy only what the package needs, so that a developer's .env, .venv or SQLite database never
# ends up in the image.
COPY pyproject.toml README.md manage.py ./
COPY backend ./backend
COPY services ./services
COPY workers ./workers

# psycopg[binary] ships its own libpq, so no compiler or system library is needed.
RUN pip install .

# Collect static files at build time (the admin, the browsable API, Swagger UI and ReDoc), so a
# fresh container can serve them at once. The secret is used for this command only; the
# production settings refuse to start without one.
RUN SECRET_KEY=collectstatic-only-not-a-secret ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput \
    && useradd --system --create-home --uid 10001 continuum \
    && chown -R continuum:continuum /app/staticfiles

USER continuum

EXPOSE 8000

CMD ["gunicorn", "backend.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
