"""SQS: standard and FIFO queues, messages in SQLite, long polling, dead-letter queues."""
