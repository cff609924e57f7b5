# want: 3:16 | Missing required argument | 
image "app" {}
task "migrate" {
  image = image.app
}
