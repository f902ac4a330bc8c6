"""The annotation round trip: pick sentences to label, export them to an annotation tool, import the labels."""
