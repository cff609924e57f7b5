# want: 5:3 | Unsupported argument | 
image "app" {}
service "web" {
  image = image.app
  enviroment = {}
}
