# want: 3:3 | Conflicting Dockerfile sources | 
image "app" {
  dockerfile        = "Dockerfile"
  dockerfile_inline = "FROM scratch"
}
