import './base.css';
import './scenarios.css';
import './endpoints.css';
