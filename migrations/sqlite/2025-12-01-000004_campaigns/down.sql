DROP TABLE campaign_messages;
DROP TABLE campaigns;
