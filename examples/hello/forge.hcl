# Three services run one image: forge builds it once and pins all three to
# the same digest in forge.manifest.json. The build arg RELEASE is recorded
# with the artifact; each service's env stays with the service.
image "app" {
  context = "app"
  args    = { RELEASE = "2026.12" }
  tags    = ["hello/app:dev", "hello/app:2026.12"]
}

service "web" {
  image   = image.app
  command = ["serve", "--port", "8000"]
  env     = { LOG_LEVEL = "info" }
}

service "worker" {
  image   = image.app
  command = ["work", "--queue", "default"]
  env     = { WORKER_REDIRECT_STDOUTS = "False" }
}

service "scheduler" {
  image   = image.app
  command = ["schedule"]
}
