"""The database, below every package that owns tables: the engine and its column types (`db.engine`), the ORM's
declarative base (`db.orm`, imported only where objects are mapped), statements run on the driver's cursor and
savepoints (`db.driver`), what makes sender text storable (`db.storable`), and which errors are the database's
trouble rather than the data's (`db.trouble`). Configuration stays in config/."""
