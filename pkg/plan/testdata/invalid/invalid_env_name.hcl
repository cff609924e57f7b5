# want: 5:13 | Invalid environment variable name | 
image "app" {}
service "web" {
  image = image.app
  env   = { "1X" = "a" }
}
