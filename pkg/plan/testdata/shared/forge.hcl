# Three services share one image; a second image is used by no service.
image "app" {
  context = "app"
  args    = { VERSION = "1.2" }
  tags    = ["registry.example.com/app:dev", "app:latest"]
}

image "broker" {
  context    = "app"
  dockerfile = "Broker.Dockerfile"
  target     = "final"
}

service "web" {
  image   = image.app
  command = ["gunicorn", "site.wsgi"]
  env     = { DEBUG = "1" }
}

service "worker" {
  image = image.app
  env   = { QUEUE = "default" }
}

service "beat" {
  image = image.app
}
