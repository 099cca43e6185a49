"""Reading and writing files at the edges of digicomp: YAML documents, tables, response data."""
