"""The label catalogue of a project: the labels its tasks may carry, with colours and descriptions."""
