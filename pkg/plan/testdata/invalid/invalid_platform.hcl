# want: 3:31 | Invalid platform | 
image "app" {
  platforms = ["linux/amd64", "linux amd64"]
}
