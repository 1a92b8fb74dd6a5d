"""HTTP machinery shared by the APIs: error responses, the lean device route, the app factory,
response models, input validation and rate limits."""
