# A Django site with a Celery worker and beat scheduler, in the image-based
# workflow: one image built once for the three services, plus Redis as the
# broker. Runtime settings come from the environment when the containers
# run; collectstatic and migrate are tasks, run at release time.

variable "base_layout" {
  description = "OCI layout (from base/make-base.sh) standing in for debian:bookworm-slim; empty uses the real image"
  type        = string
  default     = ""
}

locals {
  # With a layout, FROM debian:bookworm-slim resolves to it.
  base = var.base_layout == "" ? {} : { "debian:bookworm-slim" = "oci-layout://${var.base_layout}" }
  runtime_env = {
    DJANGO_DEBUG         = "False"
    DJANGO_ALLOWED_HOSTS = "localhost,127.0.0.1"
    CELERY_BROKER_URL    = "redis://redis:6379/0"
  }
}

image "app" {
  context  = "app"
  contexts = local.base
  tags     = ["forge-example/django:dev"]
}

image "redis" {
  context  = "redis"
  contexts = local.base
  tags     = ["forge-example/redis:dev"]
}

service "redis" {
  image = image.redis
}

service "web" {
  image      = image.app
  env        = local.runtime_env
  secret_env = ["DJANGO_SECRET_KEY"]
  ports      = ["127.0.0.1:8000:8000"]
  volumes    = ["data:/app/data", "static:/app/staticfiles"]
  depends_on = [service.redis]
}

service "celery_worker" {
  image      = image.app
  command    = ["python3", "-m", "celery", "-A", "mysite", "worker", "--loglevel=INFO", "--concurrency=1"]
  env        = merge(local.runtime_env, { CELERY_WORKER_REDIRECT_STDOUTS = "False" })
  secret_env = ["DJANGO_SECRET_KEY"]
  volumes    = ["data:/app/data"]
  depends_on = [service.redis]
}

service "celery_beat" {
  image      = image.app
  command    = ["python3", "-m", "celery", "-A", "mysite", "beat", "--loglevel=INFO", "--schedule=/tmp/celerybeat-schedule"]
  env        = local.runtime_env
  secret_env = ["DJANGO_SECRET_KEY"]
  depends_on = [service.redis]
}

task "migrate" {
  image      = image.app
  command    = ["python3", "manage.py", "migrate", "--noinput"]
  env        = local.runtime_env
  secret_env = ["DJANGO_SECRET_KEY"]
  volumes    = ["data:/app/data"]
}

task "collectstatic" {
  image      = image.app
  command    = ["python3", "manage.py", "collectstatic", "--noinput"]
  env        = local.runtime_env
  secret_env = ["DJANGO_SECRET_KEY"]
  volumes    = ["static:/app/staticfiles"]
}
