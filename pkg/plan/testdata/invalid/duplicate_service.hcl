# want: 4:9 | Duplicate service block | 
image "app" {}
service "web" { image = image.app }
service "web" { image = image.app }
