package manifest

import (
	"bytes"
	_ "embed"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// SchemaJSON is the JSON Schema of format Version, as shipped in
// schema/v1.json.
//
//go:embed schema/v1.json
var SchemaJSON []byte

const schemaURL = "https://forge.dev/schemas/manifest/v1.json"

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(SchemaJSON))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, err
	}
	return c.Compile(schemaURL)
})

// Validate checks the manifest document data against the schema of its
// format version. A document of another version yields a *VersionError;
// one that breaks the schema yields an error naming every violation.
func Validate(data []byte, path string) error {
	_, err := decode(bytes.NewReader(data), path)
	return err
}

// checkSchema checks data, a manifest of format Version, against its
// schema.
func checkSchema(data []byte, path string) error {
	schema, err := compiled()
	if err != nil {
		return fmt.Errorf("manifest schema: %w", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("manifest %s is not valid JSON: %w", path, err)
	}
	if err := schema.Validate(doc); err != nil {
		return fmt.Errorf("manifest %s does not match the version %d schema: %w", path, Version, err)
	}
	return nil
}
