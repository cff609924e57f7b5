# Every attribute of every block, for the decoding tests.
variable "release" {
  type    = string
  default = "1.0"
}

variable "platforms" {
  type    = list(string)
  default = ["linux/amd64", "linux/arm64"]
}

locals {
  registry = "registry.example.com/team"
  version  = "v${var.release}"
}

image "base" {
  context    = "app"
  dockerfile = "Base.Dockerfile"
  tags       = ["${local.registry}/base:${local.version}"]
}

image "app" {
  context     = "app"
  dockerfile  = "Dockerfile"
  target      = "runtime"
  args        = { RELEASE = var.release, BUILD_NAME = upper("app") }
  labels      = { "org.opencontainers.image.version" = local.version }
  annotations = { "org.opencontainers.image.source" = "https://example.com/app" }
  tags        = ["${local.registry}/app:${local.version}", "app:latest"]
  platforms   = var.platforms
  cache_from  = ["type=registry,ref=${local.registry}/cache:app", "${local.registry}/app:latest"]
  cache_to    = ["type=local,dest=/tmp/cache,mode=max"]
  contexts = {
    base   = image.base
    shared = "shared"
    debian = "oci-layout://layout"
    alpine = "docker-image://alpine:3.20"
    repo   = "https://github.com/example/repo.git"
  }
  secrets  = [{ id = "npm", env = "NPM_TOKEN" }, { id = "cert", file = "app.env" }]
  ssh      = ["default", "github=/keys/id_ed25519"]
  no_cache = true
  pull     = true
  network  = "none"
}

image "inline" {
  dockerfile_inline = "FROM scratch\nCOPY . /\n"
  depends_on        = [image.app]
}

service "web" {
  image       = image.app
  command     = ["gunicorn", "site.wsgi"]
  entrypoint  = ["/entrypoint.sh"]
  working_dir = "/app"
  user        = "appuser"
  env         = { DJANGO_DEBUG = "False" }
  secret_env  = ["DJANGO_SECRET_KEY"]
  env_file    = ["app.env"]
  ports       = ["127.0.0.1:8000:8000", "9000/udp"]
  volumes     = ["./shared:/app/shared:ro,z", "static:/app/staticfiles", { source = ".", target = "/src", selinux = "private" }]
  depends_on  = [service.redis]
}

service "redis" {
  image = image.base
}

task "migrate" {
  image      = image.app
  command    = ["python", "manage.py", "migrate"]
  env        = { DJANGO_SETTINGS_MODULE = "site.settings" }
  secret_env = ["DJANGO_SECRET_KEY"]
}

task "collectstatic" {
  image   = image.app
  command = ["python", "manage.py", "collectstatic", "--noinput"]
  when    = "start"
}
