# want: 2:7 | Invalid image name | 
image "my app" {}
