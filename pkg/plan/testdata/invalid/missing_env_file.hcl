# want: 5:15 | Missing env file | 
image "app" {}
service "web" {
  image    = image.app
  env_file = [".env.prod"]
}
