# want: 5:18 | Secret environment variable given a value | 
image "app" {}
service "web" {
  image      = image.app
  env        = { DJANGO_SECRET_KEY = "x" }
  secret_env = ["DJANGO_SECRET_KEY"]
}
