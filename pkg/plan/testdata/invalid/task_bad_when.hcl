# want: 6:13 | Invalid task schedule | 
image "app" {}
task "migrate" {
  image   = image.app
  command = ["migrate"]
  when    = "always"
}
