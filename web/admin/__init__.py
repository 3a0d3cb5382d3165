"""The staff's admin API (JSON, in the OpenAPI schema), protected by hashed staff API tokens, and the
admin page over it (HTML + a small script that calls only this API): one controller per aggregate."""
