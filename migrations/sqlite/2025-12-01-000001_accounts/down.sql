DROP TABLE ai_usage;
DROP TABLE api_keys;
DROP TABLE users;
DROP TABLE organisations;
